// Package markup converts between Sotto's plain text and the HTML that
// libpurple clients (Pidgin, Adium, Finch) put inside OTR plaintext.
//
// libpurple hands its conversation text, which is HTML, to pidgin-otr
// before encryption, and renders what pidgin-otr decrypts as HTML. Seen
// with Pidgin 2.14 over Prosody: typed "a < b & c > d" arrives as
// "a &lt; b &amp; c &gt; d", bold as "<b>…</b>", and our "1 <2 and 3> 0"
// is displayed as "1  0". This is not XHTML-IM (XEP-0071): it is HTML in
// the OTR plaintext, which no XMPP extension describes.
//
// ToText turns received HTML into text (entities decoded, tags dropped,
// <br> and block ends as newlines, links as their text with the address
// when it differs); it never returns markup for a UI to interpret. Escape
// is the other way: text for a peer that renders HTML. LooksHTML tells
// whether a received text carries HTML at all (tags libpurple writes, or
// entities), which is how a peer is learned to be an HTML peer.
//
// The package does no I/O and keeps no state.
package markup
