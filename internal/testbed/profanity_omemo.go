package testbed

// The OMEMO side of the profanity driver: device, fingerprints, trust,
// messages, read from profanity's own stores and chat log.

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var deviceIDRE = regexp.MustCompile(`Your Device ID is (\d+)\.`)

// GenerateOMEMO runs "/omemo gen" and waits until the server holds the
// new device in the account's device list and its bundle; it returns
// the device id.
func (p *Profanity) GenerateOMEMO() string {
	p.t.Helper()
	p.Type("/omemo gen")
	m := deviceIDRE.FindStringSubmatch(p.waitScreenRE(deviceIDRE))
	p.deviceID = m[1]
	p.poll("device "+p.deviceID+" in the published device list and bundle", func() (bool, error) {
		ids, _, err := p.client.deviceList("")
		if err != nil || !contains(ids, p.deviceID) {
			return false, err
		}
		items, found, err := p.client.items("", nodeBundlePrefix+p.deviceID)
		return found && len(items) > 0 && strings.Contains(string(items[0]), "identityKey"), err
	})
	return p.deviceID
}

// DeviceID is the id GenerateOMEMO made ("" before).
func (p *Profanity) DeviceID() string { return p.deviceID }

var ownFingerprintRE = regexp.MustCompile(`Your OMEMO fingerprint: ([0-9a-f-]{64,})`)

// Fingerprint is profanity's own OMEMO fingerprint as "/omemo
// fingerprint" shows it in the console, without the dashes: 64 lowercase
// hex digits.
func (p *Profanity) Fingerprint() string {
	p.t.Helper()
	p.Type("/win 1")
	p.Type("/clear")
	p.Type("/omemo fingerprint")
	m := ownFingerprintRE.FindStringSubmatch(p.waitScreenRE(ownFingerprintRE))
	return strings.ReplaceAll(m[1], "-", "")
}

// StartOMEMO runs "/omemo start jid": it opens the chat window in OMEMO
// mode and fetches jid's device list and bundles.
func (p *Profanity) StartOMEMO(jid string) {
	p.t.Helper()
	p.Type("/omemo start " + jid)
	p.poll("the chat with "+jid+" in OMEMO mode", func() (bool, error) {
		first, _, _ := strings.Cut(p.Screen(), "\n")
		return strings.Contains(first, jid) && strings.Contains(first, "[OMEMO]"), nil
	})
}

// KnownFingerprints are the fingerprints (no dashes) of jid's devices
// whose bundles profanity has fetched, by device id, as it stored them.
func (p *Profanity) KnownFingerprints(jid string) map[string]string {
	kf, _ := readKeyFile(filepath.Join(p.omemoDir(), "known_devices.txt"))
	out := map[string]string{}
	for id, fp := range kf[jid] {
		out[id] = fp
	}
	return out
}

// WaitFingerprint waits until profanity knows a device of jid with
// fingerprint fp and returns the device id.
func (p *Profanity) WaitFingerprint(jid, fp string) string {
	p.t.Helper()
	var id string
	p.poll("a device of "+jid+" with fingerprint "+fp, func() (bool, error) {
		for dev, known := range p.KnownFingerprints(jid) {
			if known == fp {
				id = dev
				return true, nil
			}
		}
		return false, nil
	})
	return id
}

// Trust runs "/omemo trust jid fp" once profanity knows that device, and
// waits until the device is in profanity's trust store and it has built a
// session with it (so a message sent next is encrypted for it).
func (p *Profanity) Trust(jid, fp string) {
	p.t.Helper()
	dev := p.WaitFingerprint(jid, fp)
	p.Type("/omemo trust " + jid + " " + fp)
	p.poll("device "+dev+" of "+jid+" trusted, with a session", func() (bool, error) {
		trust, err := readKeyFile(filepath.Join(p.omemoDir(), "trust.txt"))
		if err != nil {
			return false, err
		}
		sessions, err := readKeyFile(filepath.Join(p.omemoDir(), "sessions.txt"))
		if err != nil {
			return false, err
		}
		return trust[jid][dev] != "" && sessions[jid][dev] != "", nil
	})
}

// Send sends text to jid with "/msg" and waits until profanity logged it
// as sent. It is OMEMO-encrypted when StartOMEMO(jid) came first (and
// the chat still is in OMEMO mode); otherwise profanity sends it in the
// clear. profanity logs it only once it has handed it to the server.
func (p *Profanity) Send(jid, text string) {
	p.t.Helper()
	if strings.ContainsAny(text, "\r\n") {
		p.t.Fatalf("testbed: profanity Send: one line only")
	}
	p.Type("/msg " + jid + " " + text)
	p.poll("the sent message in the chat log", func() (bool, error) {
		for _, l := range p.Messages(jid) {
			if l.Outgoing && l.Text == text {
				return true, nil
			}
		}
		return false, nil
	})
}

// WaitMessage waits until profanity logged a message from jid with text
// (decrypted, when it came encrypted).
func (p *Profanity) WaitMessage(jid, text string) ChatLine {
	p.t.Helper()
	var got ChatLine
	p.poll("a message from "+jid+" in the chat log", func() (bool, error) {
		for _, l := range p.Messages(jid) {
			if !l.Outgoing && l.Text == text {
				got = l
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

// Messages reads profanity's chat log with jid, oldest first.
func (p *Profanity) Messages(jid string) []ChatLine {
	dir := filepath.Join(p.data, "chatlogs", strings.ReplaceAll(p.jid, "@", "_at_"),
		strings.ReplaceAll(jid, "@", "_at_"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	sort.Strings(files)
	var lines []ChatLine
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			ts, rest, ok := strings.Cut(sc.Text(), " - ")
			if !ok {
				continue
			}
			who, text, ok := strings.Cut(rest, ": ")
			if !ok {
				continue
			}
			lines = append(lines, ChatLine{Time: ts, Outgoing: who == "me", From: who, Text: text})
		}
	}
	return lines
}

func (p *Profanity) omemoDir() string {
	return filepath.Join(p.data, "omemo", strings.ReplaceAll(p.jid, "@", "_at_"))
}

// readKeyFile parses a GLib key file ([group] then key=value lines),
// profanity's format for its OMEMO stores. A missing file is empty.
func readKeyFile(path string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	group := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			group = line[1 : len(line)-1]
			if out[group] == nil {
				out[group] = map[string]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok && group != "" {
				out[group][strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
