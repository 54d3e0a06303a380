package wire

// In-band registration (XEP-0077): create an account on the server over
// a fresh encrypted stream, before any authentication. We ask for the
// server's form (§3.1), fill in a user name and password, and submit it
// (§3.2) as the server asked: the legacy fields, or the data form
// (XEP-0004) when that is all it offers. A form that wants more than a
// name and a password (an e-mail address, a CAPTCHA, XEP-0158) is not
// filled in: Register says so in plain words, with the server's own
// instructions.

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// NSRegister is XEP-0077's namespace.
const NSRegister = "jabber:iq:register"

const nsDataForm = "jabber:x:data"

// RegisterForm is the server's registration form, decoded.
type RegisterForm struct {
	Instructions string
	Registered   bool     // we are already registered (never on a fresh stream)
	Legacy       []string // the legacy fields it lists, in order (username, password, email…)
	DataForm     bool
	Fields       []FormField // the data form's fields
}

// FormField is one XEP-0004 field.
type FormField struct {
	Var, Type, Label string
	Required         bool
	Value            string // first value, for hidden fields we echo back
}

// Extra lists what the form wants beyond a user name and password, in
// the server's words where it gave labels; empty means we can fill it.
func (f RegisterForm) Extra() []string {
	var extra []string
	if f.DataForm {
		for _, fl := range f.Fields {
			switch {
			case fl.Var == "FORM_TYPE" || fl.Var == "username" || fl.Var == "password":
			case fl.Type == "hidden" || fl.Type == "fixed":
			case fl.Required:
				extra = append(extra, fieldName(fl))
			}
		}
		// A CAPTCHA form (XEP-0158) says so in its FORM_TYPE.
		for _, fl := range f.Fields {
			if fl.Var == "FORM_TYPE" && strings.Contains(fl.Value, "captcha") && len(extra) == 0 {
				extra = append(extra, "a CAPTCHA")
			}
		}
		return extra
	}
	for _, l := range f.Legacy {
		if l != "username" && l != "password" {
			extra = append(extra, l)
		}
	}
	return extra
}

func fieldName(fl FormField) string {
	if fl.Type == "text-single" && (fl.Var == "ocr" || strings.Contains(strings.ToLower(fl.Label), "captcha")) {
		return "a CAPTCHA"
	}
	if fl.Label != "" {
		return fl.Label
	}
	return fl.Var
}

// canSubmit: the form has somewhere to put a user name and a password.
func (f RegisterForm) canSubmit() bool {
	has := func(name string) bool {
		for _, l := range f.Legacy {
			if l == name {
				return true
			}
		}
		for _, fl := range f.Fields {
			if fl.Var == name {
				return true
			}
		}
		return false
	}
	return has("username") && has("password")
}

// legacyOK: submit the legacy fields (the server listed both).
func (f RegisterForm) legacyOK() bool {
	u, p := false, false
	for _, l := range f.Legacy {
		u, p = u || l == "username", p || l == "password"
	}
	return u && p
}

// regQuery is the wire shape of <query xmlns='jabber:iq:register'>.
type regQuery struct {
	XMLName      xml.Name   `xml:"jabber:iq:register query"`
	Instructions string     `xml:"instructions"`
	Registered   *struct{}  `xml:"registered"`
	Any          []anyElem  `xml:",any"`
	X            *xDataForm `xml:"jabber:x:data x"`
}

type anyElem struct{ XMLName xml.Name }

type xDataForm struct {
	Type   string `xml:"type,attr"`
	Fields []struct {
		Var      string    `xml:"var,attr"`
		Type     string    `xml:"type,attr"`
		Label    string    `xml:"label,attr"`
		Required *struct{} `xml:"required"`
		Values   []string  `xml:"value"`
	} `xml:"field"`
}

// maxFormFields bounds what we keep of a hostile form.
const maxFormFields = 64

// DecodeRegisterForm decodes a <query xmlns='jabber:iq:register'> element
// (the payload of the server's answer). It never panics; a malformed form
// is an error.
func DecodeRegisterForm(b []byte) (RegisterForm, error) {
	var q regQuery
	if err := xml.Unmarshal(b, &q); err != nil {
		return RegisterForm{}, fmt.Errorf("account: the server's registration form is malformed: %w", err)
	}
	return formOf(&q), nil
}

func formOf(q *regQuery) RegisterForm {
	f := RegisterForm{Instructions: strings.TrimSpace(q.Instructions), Registered: q.Registered != nil}
	for _, e := range q.Any {
		if e.XMLName.Space != NSRegister && e.XMLName.Space != "" {
			continue
		}
		switch e.XMLName.Local {
		case "instructions", "registered", "x", "remove":
			continue
		}
		if len(f.Legacy) < maxFormFields {
			f.Legacy = append(f.Legacy, e.XMLName.Local)
		}
	}
	if q.X != nil && (q.X.Type == "form" || q.X.Type == "") {
		f.DataForm = true
		for _, fl := range q.X.Fields {
			if len(f.Fields) == maxFormFields {
				break
			}
			ff := FormField{Var: fl.Var, Type: fl.Type, Label: fl.Label, Required: fl.Required != nil}
			if len(fl.Values) > 0 {
				ff.Value = fl.Values[0]
			}
			f.Fields = append(f.Fields, ff)
		}
	}
	return f
}

// RegisterError: the server did not create the account. Reason is plain
// words for the user; Taken is set when the name is in use (choose
// another), NotAllowed when the server does not let anyone create
// accounts this way, NeedsMore when its form asks for more than we can
// fill in.
type RegisterError struct {
	Reason     string
	Taken      bool
	NotAllowed bool
	NeedsMore  []string
}

func (e *RegisterError) Error() string { return "account: " + e.Reason }

// Register creates the account p.JID (its local part is the user name)
// with password on the server p leads to (DNS SRV, proxy and
// certificate rules as for Dial). It returns nil once the server has
// created it; the caller then signs in as usual.
func Register(ctx context.Context, p Params, password string) error {
	ctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	origin, err := jid.Parse(p.JID)
	if err != nil || origin.Localpart() == "" {
		return fmt.Errorf("account: %q is not a valid address", p.JID)
	}
	if password == "" {
		return &RegisterError{Reason: "choose a password for the new account"}
	}
	conn, rw, features, problem, err := open(ctx, p, origin.Bare())
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	// Only TLS is negotiated, then the register feature marks the end:
	// no SASL, no bind.
	features = append(features, registerFeature, endAtSASL)
	sess, err := xmpp.NewClientSession(context.WithoutCancel(ctx), origin.Bare(), rw, features...)
	if err != nil {
		if *problem != nil {
			return *problem
		}
		var nt *NoTLSError
		if errors.As(err, &nt) {
			return nt
		}
		return fmt.Errorf("account: the server did not accept the connection: %w", err)
	}
	defer sess.Close()
	if sess.State()&xmpp.Secure == 0 {
		return errors.New("account: the server does not offer encryption; Sotto does not create accounts without it")
	}
	go func() { _ = sess.Serve(nil) }()

	server := origin.Domain()
	q, ierr, err := registerIQ(ctx, sess, server, "get", nil)
	if err != nil {
		return err
	}
	if ierr != nil {
		return registerRefusal(ierr, true)
	}
	form := formOf(q)
	if extra := form.Extra(); len(extra) > 0 || !form.canSubmit() {
		if len(extra) == 0 {
			extra = []string{"a form Sotto cannot fill in"}
		}
		reason := "this server asks for more than a name and a password to create an account (" +
			strings.Join(extra, ", ") + "); create it on the server's website or with another app"
		if form.Instructions != "" {
			reason += `. The server says: "` + form.Instructions + `"`
		}
		return &RegisterError{Reason: reason, NeedsMore: extra}
	}
	_, ierr, err = registerIQ(ctx, sess, server, "set", submission(form, origin.Localpart(), password))
	if err != nil {
		return err
	}
	if ierr != nil {
		return registerRefusal(ierr, false)
	}
	return nil
}

// registerFeature is the <register xmlns='http://jabber.org/features/iq-register'/>
// stream feature (XEP-0077 §4). It has nothing to negotiate; selecting it
// ends mellium's negotiation on the encrypted, unauthenticated stream,
// which otherwise stops at SASL features it was not given ("features
// advertised out of order").
var registerFeature = xmpp.StreamFeature{
	Name:       xml.Name{Space: "http://jabber.org/features/iq-register", Local: "register"},
	Necessary:  xmpp.Secure,
	Prohibited: xmpp.Authn,
	Parse: func(ctx context.Context, d *xml.Decoder, start *xml.StartElement) (bool, interface{}, error) {
		return false, nil, d.Skip()
	},
	Negotiate: func(ctx context.Context, s *xmpp.Session, data interface{}) (xmpp.SessionState, io.ReadWriter, error) {
		return xmpp.Ready, nil, nil
	},
}

// endAtSASL does the same for a server that does not advertise
// registration (most do not): the stream ends negotiating at its SASL
// mechanisms, and the registration IQ gets the server's refusal in words.
var endAtSASL = xmpp.StreamFeature{
	Name:       xml.Name{Space: "urn:ietf:params:xml:ns:xmpp-sasl", Local: "mechanisms"},
	Necessary:  xmpp.Secure,
	Prohibited: xmpp.Authn,
	Parse:      registerFeature.Parse,
	Negotiate:  registerFeature.Negotiate,
}

// submission is the filled-in form: legacy fields, or the data form.
func submission(f RegisterForm, user, password string) xml.TokenReader {
	text := func(name, v string) xml.TokenReader {
		return xmlstream.Wrap(xmlstream.Token(xml.CharData(v)), xml.StartElement{Name: xml.Name{Local: name}})
	}
	if f.legacyOK() {
		return xmlstream.MultiReader(text("username", user), text("password", password))
	}
	field := func(name, v string) xml.TokenReader {
		return xmlstream.Wrap(text("value", v), xml.StartElement{Name: xml.Name{Local: "field"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "var"}, Value: name}}})
	}
	var inner []xml.TokenReader
	for _, fl := range f.Fields {
		switch {
		case fl.Var == "username":
			inner = append(inner, field("username", user))
		case fl.Var == "password":
			inner = append(inner, field("password", password))
		case fl.Type == "hidden" && fl.Var != "":
			inner = append(inner, field(fl.Var, fl.Value))
		}
	}
	return xmlstream.Wrap(xmlstream.MultiReader(inner...), xml.StartElement{
		Name: xml.Name{Space: nsDataForm, Local: "x"}, Attr: []xml.Attr{{Name: xml.Name{Local: "type"}, Value: "submit"}}})
}

// registerIQ sends one jabber:iq:register IQ and returns the <query> of
// a result (empty if it had none), or the stanza error of an error reply.
func registerIQ(ctx context.Context, sess *xmpp.Session, to jid.JID, typ string, inner xml.TokenReader) (*regQuery, *stanza.Error, error) {
	if inner == nil {
		inner = xmlstream.MultiReader()
	}
	iq := stanza.IQ{ID: ID(), To: to, Type: stanza.IQType(typ)}
	q := xmlstream.Wrap(inner, xml.StartElement{Name: xml.Name{Space: NSRegister, Local: "query"}})
	resp, err := sess.SendIQ(ctx, iq.Wrap(q))
	if err != nil {
		return nil, nil, fmt.Errorf("account: the server did not answer the registration request: %w", err)
	}
	defer resp.Close()
	// resp is positioned after the <iq> start element; read its
	// children whole, bounded.
	var reply struct {
		Query *regQuery     `xml:"jabber:iq:register query"`
		Err   *stanza.Error `xml:"jabber:client error"`
	}
	d := xml.NewTokenDecoder(resp)
	start, err := d.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("account: the server's answer was unreadable: %w", err)
	}
	se, ok := start.(xml.StartElement)
	if !ok {
		return nil, nil, errors.New("account: the server's answer was unreadable")
	}
	if err := d.DecodeElement(&reply, &se); err != nil {
		return nil, nil, fmt.Errorf("account: the server's answer was malformed: %w", err)
	}
	if attr(se, "type") == "error" {
		if reply.Err == nil {
			reply.Err = &stanza.Error{}
		}
		return nil, reply.Err, nil
	}
	if reply.Query == nil {
		reply.Query = &regQuery{}
	}
	return reply.Query, nil, nil
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// registerRefusal turns a stanza error into plain words (XEP-0077 §3.1,
// §3.3). onGet: the refusal came when asking for the form.
func registerRefusal(e *stanza.Error, onGet bool) *RegisterError {
	said := ""
	for _, t := range e.Text {
		if strings.TrimSpace(t) != "" {
			said = ` (the server says: "` + strings.TrimSpace(t) + `")`
			break
		}
	}
	switch e.Condition {
	case stanza.Conflict:
		return &RegisterError{Taken: true, Reason: "that name is taken on this server; choose another" + said}
	case stanza.NotAcceptable, stanza.BadRequest, stanza.JIDMalformed:
		return &RegisterError{Reason: "the server did not accept that name or password (it may be too short, too weak or contain characters it does not allow)" + said}
	case stanza.NotAllowed, stanza.Forbidden, stanza.ServiceUnavailable, stanza.FeatureNotImplemented, stanza.RegistrationRequired:
		return &RegisterError{NotAllowed: true, Reason: "this server does not allow creating accounts here" + said}
	case stanza.ResourceConstraint, stanza.PolicyViolation:
		return &RegisterError{Reason: "the server is not taking new accounts right now (perhaps too many were created recently); try again later" + said}
	}
	if onGet {
		return &RegisterError{NotAllowed: true, Reason: "this server does not offer creating accounts here" + said}
	}
	return &RegisterError{Reason: "the server did not create the account" + said}
}
