package account

// Pidgin's HTML in OTR plaintext, both ways (internal/markup says what
// libpurple does). A contact is an HTML peer when its caps node names a
// libpurple client, or once it sent us HTML inside OTR; that is kept for
// the run of the app.

import (
	"strings"

	"github.com/sotto-im/sotto/account/internal/markup"
	"github.com/sotto-im/sotto/account/internal/wire"
)

// htmlNodes are caps nodes (XEP-0115) of clients that put HTML in OTR
// plaintext: libpurple 2.x sends "http://pidgin.im/" whatever its UI
// (Pidgin, Finch, Adium's libpurple), older ones "http://pidgin.im/caps"
// and "http://gaim.sf.net/caps"; Adium its own "http://www.adium.im/".
var htmlNodes = []string{"pidgin.im", "gaim.sf.net", "adium.im", "adiumx.com", "libpurple"}

// learnCaps records what a presence's caps say about the client.
func (c *client) learnCaps(bare string, caps *wire.Caps) {
	if caps == nil || caps.Node == "" {
		return
	}
	p := c.peerInfo(bare)
	p.node = caps.Node
	n := strings.ToLower(caps.Node)
	for _, h := range htmlNodes {
		if strings.Contains(n, h) {
			p.html = true
		}
	}
}

// textIn is the text to show for a received line. Decrypted OTR text
// that carries HTML (tags or entities) is turned into text and marks the
// peer an HTML peer; a plain body is converted only when the peer is
// known to send HTML (a plain body is plain text by XMPP's rules; only
// libpurple's OTR plaintext is HTML).
func (c *client) textIn(peer, text string, encrypted bool) string {
	if !markup.LooksHTML(text) {
		return text
	}
	p := c.peerInfo(peer)
	switch {
	case encrypted:
		p.html = true
	case !p.html:
		return text
	}
	return markup.ToText(text)
}

// textOut is what goes into the OTR plaintext for text the user typed:
// escaped for an HTML peer (else Pidgin drops "<2 and 3>" and turns
// "&amp;" into "&"), as typed for everyone else. Plain (not encrypted)
// bodies are never escaped: libpurple reads an XMPP body as text.
func (c *client) textOut(peer, text string, encrypted bool) string {
	if !encrypted || !c.peerInfo(peer).html {
		return text
	}
	return markup.Escape(text)
}
