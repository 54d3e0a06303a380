package otr_test

import (
	"crypto/rand"
	"fmt"
	"log"

	"github.com/sotto-im/sotto/otr"
)

// Two conversations go private and exchange a message. The application's
// only job is to carry Result.Send to the other side and show the rest.
func Example() {
	aliceKey, err := otr.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	bobKey, err := otr.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	alice, _ := otr.NewConversation(otr.NewConfig(aliceKey, otr.PolicyManual))
	bob, _ := otr.NewConversation(otr.NewConfig(bobKey, otr.PolicyManual))

	// deliver carries messages back and forth until both sides are quiet.
	var deliver func(to, from *otr.Conversation, name string, msgs [][]byte)
	deliver = func(to, from *otr.Conversation, name string, msgs [][]byte) {
		for _, m := range msgs {
			res, err := to.Receive(m)
			if err != nil {
				log.Fatal(err)
			}
			for _, e := range res.Events {
				if e.Kind == otr.EventGoneSecure {
					fmt.Printf("%s: gone secure, version %d\n", name, e.Version)
				}
			}
			if res.Plaintext != nil {
				fmt.Printf("%s received %q (encrypted: %v)\n", name, res.Plaintext, res.Encrypted)
			}
			other := "alice"
			if name == "alice" {
				other = "bob"
			}
			deliver(from, to, other, res.Send)
		}
	}

	// Alice asks for a private conversation; Bob's client answers.
	deliver(bob, alice, "bob", alice.Query().Send)

	res, err := alice.Send([]byte("hello, privately"))
	if err != nil {
		log.Fatal(err)
	}
	deliver(bob, alice, "bob", res.Send)
	// Output:
	// alice: gone secure, version 3
	// bob: gone secure, version 3
	// bob received "hello, privately" (encrypted: true)
}
