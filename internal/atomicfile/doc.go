// Package atomicfile replaces files crash-safely and keeps damaged files
// aside. The profile (package account) and the vault (package secret) use
// it for every file they write.
//
// Write replaces a file so that a crash leaves either the old or the new
// contents, never a torn file, and creates it 0600 (everything Sotto keeps
// in a profile is private). MoveAside renames a file that could not be
// read to path.corrupt-<UTC time> without ever overwriting an earlier copy,
// so the user's data is kept for inspection instead of being replaced.
package atomicfile
