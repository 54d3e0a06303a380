package account

// XEP-0191 blocking.

// isBlocked reports whether messages and presence from bare/res are
// dropped.
func (c *client) isBlocked(bare, res string) bool {
	return false
}
