package account

// XEP-0184 message delivery receipts.

// pendingReceipt is a message we asked a receipt for.
type pendingReceipt struct {
	pc       peerKey
	id, body string // the user's message id and text, as in MessageStateChanged
}
