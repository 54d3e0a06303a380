package sm

import (
	"bytes"
	"encoding/xml"
	"io"

	"mellium.im/xmlstream"
)

func marshal(v interface{}, start xml.StartElement) ([]byte, error) {
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	var err error
	if start.Name.Local == "" {
		err = e.Encode(v)
	} else {
		err = e.EncodeElement(v, start)
	}
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// copyTokens re-encodes marshalled XML token by token into w.
func copyTokens(w xmlstream.TokenWriter, b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.EncodeToken(xml.CopyToken(tok)); err != nil {
			return err
		}
	}
}
