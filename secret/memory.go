package secret

// Memory: a Store that never leaves the process.

import (
	"context"
	"sync"
)

// Memory is a Store that keeps secrets in this process's memory
// only: nothing reaches a disk or a keyring, and everything is gone when
// the process ends. Tests, the screenshot scenes and the benchmarks use it.
type Memory struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{m: map[string][]byte{}} }

// Get returns a copy of the secret, or ErrNotFound.
func (s *Memory) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// Set stores a copy of value.
func (s *Memory) Set(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte(nil), value...)
	return nil
}

// Delete removes the secret; ErrNotFound if there was none.
func (s *Memory) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		return ErrNotFound
	}
	clear(s.m[key])
	delete(s.m, key)
	return nil
}

// Snapshot returns a copy of every secret, for tests that compare stores.
func (s *Memory) Snapshot() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.m))
	for k, v := range s.m {
		out[k] = append([]byte(nil), v...)
	}
	return out
}
