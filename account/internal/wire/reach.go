package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// ReachError: the TCP connection to the server could not be made. Its
// message says in plain words what went wrong, naming the host as the
// user knows it (the account's domain or the server setting, never the
// resolved address): "account: Sotto could not reach localhost on port
// 15422: nothing is listening there". Err is the dialer's error.
type ReachError struct {
	Host string
	Port string
	Err  error
}

func (e *ReachError) Error() string {
	return "account: Sotto could not reach " + e.Host + " on port " + e.Port + ": " + reachReason(e.Err)
}
func (e *ReachError) Unwrap() error { return e.Err }

// reachReason is the plain cause of a failed dial.
func reachReason(err error) string {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return "there is no server by that name (check the part of your address after @, or the server setting)"
	case errors.As(err, &dns):
		return "its name could not be looked up (check your network connection)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing is listening there (the server may be down, or the port may be wrong)"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "the network cannot get there (are you online?)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "it did not answer in time (check your network connection)"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return fmt.Sprintf("the connection failed (%v)", op.Err)
	}
	return fmt.Sprintf("the connection failed (%v)", err)
}
