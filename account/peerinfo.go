package account

// What the loop learns about contacts' clients and keeps for the
// extensions (markup.go, receipts.go, chatstate.go, blocking.go). Owned by
// the loop goroutine like the rest of client.

// peerInfo is what we know of one contact's client (any of its
// resources), learned in this run of the app.
type peerInfo struct {
	// html: the client puts HTML in OTR plaintext and renders what it
	// receives as HTML (libpurple: Pidgin, Adium, Finch), learned from
	// its caps node or from HTML in what it sent.
	html bool
	// chatStates: it sent us a XEP-0085 chat state, so it understands
	// them (§5.1: only then do we send standalone notifications).
	chatStates bool
	// receipts: it confirmed a line of ours (XEP-0184), so lines it has
	// not confirmed are sent again after a new AKE (unreceipted.go).
	receipts bool
	// node is the XEP-0115 caps node of its last presence.
	node string
}

// extState is the loop's state for the extensions.
type extState struct {
	peers map[string]*peerInfo // bare JID -> client facts
	// receipts: stanza id of a message we sent with a receipt request ->
	// the message the user sees (receipts.go).
	receipts map[string]pendingReceipt
	// blocked: what the server's blocklist holds (blocking.go).
	blocked map[string]bool
	// Roster versioning (rostercache.go): the version of c.roster.items,
	// and whether the cache file was read yet.
	rosterVer    string
	rosterLoaded bool
	// omemo: the account's OMEMO state (omemo.go).
	omemo *omemoAccount
}

// peerInfo returns the facts about bare, creating an empty entry.
func (c *client) peerInfo(bare string) *peerInfo {
	if c.ext.peers == nil {
		c.ext.peers = map[string]*peerInfo{}
	}
	p := c.ext.peers[bare]
	if p == nil {
		p = &peerInfo{}
		c.ext.peers[bare] = p
	}
	return p
}
