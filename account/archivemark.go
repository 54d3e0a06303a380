package account

// The archive mark: for each account, the id of the last message Sotto
// took from (or saw in) the server's archive (XEP-0313), so the catch-up
// after the next sign-in asks only for what came after it (mam.go). It is
// an id the server made up, nothing else: no message text, no contact, no
// time.

import (
	"errors"
	"strconv"
)

const archiveFile = "archive.json"

type archiveDoc struct {
	Version int
	// Marks: account → the last archive id; "" when the archive was
	// empty at the first sign-in (everything in it later is new).
	Marks map[string]string
}

// maxArchiveMark bounds an id we keep (servers use ~20 characters).
const maxArchiveMark = 256

// ArchiveMark is the account's mark, and whether there is one (false
// before the account's first catch-up on a server with an archive).
func (p *Profile) ArchiveMark(account string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.marks.Marks[account]
	return id, ok
}

// SetArchiveMark records the account's mark.
func (p *Profile) SetArchiveMark(account, id string) error {
	if len(id) > maxArchiveMark {
		return errors.New("account: an archive id longer than " + strconv.Itoa(maxArchiveMark) + " characters")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, had := p.marks.Marks[account]
	if had && old == id {
		return nil
	}
	if p.marks.Marks == nil {
		p.marks.Marks = map[string]string{}
	}
	p.marks.Marks[account] = id
	if err := p.save(archiveFile, &p.marks); err != nil {
		if had {
			p.marks.Marks[account] = old
		} else {
			delete(p.marks.Marks, account)
		}
		return err
	}
	return nil
}

// dropArchiveMark forgets the account's mark; the caller holds p.mu.
func (p *Profile) dropArchiveMark(account string) error {
	old, had := p.marks.Marks[account]
	if !had {
		return nil
	}
	delete(p.marks.Marks, account)
	if err := p.save(archiveFile, &p.marks); err != nil {
		p.marks.Marks[account] = old
		return err
	}
	return nil
}
