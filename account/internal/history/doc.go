// Package history is the file store behind Sotto's opt-in history of plain
// chats: append a line, read the last lines back, clear. It decides nothing
// about what may be kept — the account loop checks that a message was plain
// before it calls Append (account/history.go says why a private message is
// never written) — and owns no goroutine.
//
// On disk: <dir>/<account>/<hex sha256(peer)>.jsonl, where dir is the
// profile's "history" folder, directories 0700, files 0600, one JSON object
// per line {"time":…,"direction":"in"|"out","body":…}. The peer (a bare JID,
// canonical: the caller parses it) is hashed so a directory listing does not
// name every contact (the profile's accounts.json names the account
// already). Appends are one write(2) each with O_APPEND and no fsync: the
// account loop must not wait on a slow disk for more than a small append,
// and losing the last lines in a crash is acceptable for a convenience log;
// a line torn by a crash is skipped on reading and ended by the next
// append. Bodies are capped at 16 KiB. Read scans backwards from the end of
// the file and reads at most 16 MiB, so a huge or damaged file costs a
// bounded read. Clear unlinks the files; it does not (cannot reliably, on
// journalled file systems and SSDs) overwrite the blocks.
package history
