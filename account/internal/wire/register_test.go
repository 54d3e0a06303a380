package wire

import (
	"strings"
	"testing"
)

// Forms as servers send them: Prosody 0.12 (seen on the wire in
// TestInBandRegistration), Prosody with additional_registration_fields,
// ejabberd with a CAPTCHA (XEP-0158), a data form only, garbage.
var registerForms = []struct {
	name, xml string
	extra     string // Extra() joined; "-" = cannot submit
	legacy    bool
}{
	{"prosody", `<query xmlns='jabber:iq:register'><instructions>Choose a username and password for use with this service.</instructions><username/><password/><x xmlns='jabber:x:data' type='form'><title>Creating a new account</title><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field><field label='Username' var='username' type='text-single'><required/></field><field label='Password' var='password' type='text-private'><required/></field></x></query>`, "", true},
	{"prosody email optional", `<query xmlns='jabber:iq:register'><username/><password/><email/><x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field><field var='username' type='text-single'><required/></field><field var='password' type='text-private'><required/></field><field label='Email' var='email' type='text-single'/></x></query>`, "", true},
	{"prosody email required", `<query xmlns='jabber:iq:register'><username/><password/><email/><x xmlns='jabber:x:data' type='form'><field var='username'><required/></field><field var='password'><required/></field><field label='Email' var='email' type='text-single'><required/></field></x></query>`, "Email", true},
	{"legacy only with email", `<query xmlns='jabber:iq:register'><instructions>x</instructions><username/><password/><email/></query>`, "email", true},
	{"captcha", `<query xmlns='jabber:iq:register'><instructions>Solve it</instructions><x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:captcha</value></field><field var='username' type='text-single'><required/></field><field var='password' type='text-private'><required/></field><field label='Enter the text you see' var='ocr' type='text-single'><required/></field></x></query>`, "a CAPTCHA", false},
	{"data form only", `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'><field var='username'><required/></field><field var='password'><required/></field></x></query>`, "", false},
	{"nothing to fill", `<query xmlns='jabber:iq:register'><instructions>Go to https://example.org/signup</instructions></query>`, "-", false},
}

func TestDecodeRegisterForm(t *testing.T) {
	for _, tc := range registerForms {
		f, err := DecodeRegisterForm([]byte(tc.xml))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		extra := strings.Join(f.Extra(), ", ")
		if !f.canSubmit() {
			extra = "-"
		}
		if extra != tc.extra || f.legacyOK() != tc.legacy {
			t.Errorf("%s: extra %q legacy %v, want %q %v (form %+v)", tc.name, extra, f.legacyOK(), tc.extra, tc.legacy, f)
		}
	}
	for _, bad := range []string{"", "<query", "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data'><field></x></query>"} {
		if _, err := DecodeRegisterForm([]byte(bad)); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

// FuzzRegisterForm: any bytes decode or fail, never panic, and what
// decodes stays bounded.
func FuzzRegisterForm(f *testing.F) {
	for _, tc := range registerForms {
		f.Add([]byte(tc.xml))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		form, err := DecodeRegisterForm(b)
		if err != nil {
			return
		}
		if len(form.Legacy) > maxFormFields || len(form.Fields) > maxFormFields {
			t.Fatalf("kept %d legacy and %d form fields", len(form.Legacy), len(form.Fields))
		}
		_ = form.Extra()
		_ = form.canSubmit()
		_ = submission(form, "u", "p")
	})
}
