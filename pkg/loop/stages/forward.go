package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/loop"
)

// Forwarder forwards local ports to deployed resources. It owns the local
// listeners and picks a ready pod for every new connection, so a forward keeps
// working across rollouts: connections opened after a rollout reach the new pods.
type Forwarder struct {
	rc        *rest.Config
	cs        kubernetes.Interface
	namespace string
	sink      event.Sink
}

var _ loop.Forwarder = (*Forwarder)(nil)

// NewForwarder returns a Forwarder using rc for the port-forward streams and cs to
// find pods; namespace is used for forwards that name none.
func NewForwarder(rc *rest.Config, cs kubernetes.Interface, namespace string, sink event.Sink) *Forwarder {
	if sink == nil {
		sink = event.Discard{}
	}
	return &Forwarder{rc: rc, cs: cs, namespace: namespace, sink: sink}
}

// Forward implements loop.Forwarder: it listens on every forward's local address
// and returns when ctx ends. A port that cannot be bound is an error.
func (f *Forwarder) Forward(ctx context.Context, forwards []config.PortForward) error {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for _, fw := range forwards {
		fw = f.defaults(fw)
		addr := net.JoinHostPort(fw.Address, strconv.Itoa(fw.LocalPort))
		var lc net.ListenConfig
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("forwarding %s: %w", fw.Resource, err)
		}
		ls = append(ls, l)
	}
	var wg sync.WaitGroup
	for i, fw := range forwards {
		fw = f.defaults(fw)
		l := ls[i]
		f.sink.Send(ctx, event.Event{Phase: event.PhasePortForward, Status: event.StatusSuccess, Resource: fw.Resource,
			Message: fmt.Sprintf("forwarding %s → %s:%d", l.Addr(), fw.Resource, fw.Port)})
		wg.Go(func() { f.serve(ctx, l, fw) })
	}
	<-ctx.Done()
	for _, l := range ls {
		l.Close()
	}
	wg.Wait()
	return nil
}

func (f *Forwarder) defaults(fw config.PortForward) config.PortForward {
	if fw.Namespace == "" {
		fw.Namespace = f.namespace
	}
	if fw.LocalPort == 0 {
		fw.LocalPort = fw.Port
	}
	if fw.Address == "" {
		fw.Address = config.DefaultForwardAddress
	}
	return fw
}

// serve accepts connections until the listener closes.
func (f *Forwarder) serve(ctx context.Context, l net.Listener, fw config.PortForward) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer conn.Close()
			if err := f.handle(ctx, conn, fw); err != nil && ctx.Err() == nil {
				f.sink.Send(ctx, event.Event{Phase: event.PhasePortForward, Status: event.StatusProgress, Resource: fw.Resource,
					Message: "warning: port-forward: " + err.Error()})
			}
		})
	}
}

// handle carries one local connection to a ready pod of the resource.
func (f *Forwarder) handle(ctx context.Context, conn net.Conn, fw config.PortForward) error {
	pod, port, err := resolvePod(ctx, f.cs, fw)
	if err != nil {
		return err
	}
	req := f.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward")
	transport, upgrader, err := spdy.RoundTripperFor(f.rc)
	if err != nil {
		return err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, req.URL())
	sc, _, err := dialer.Dial(portforward.PortForwardProtocolV1Name)
	if err != nil {
		return fmt.Errorf("connecting to pod %s: %w", pod.Name, err)
	}
	defer sc.Close()
	stop := context.AfterFunc(ctx, func() { sc.Close(); conn.Close() })
	defer stop()

	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, strconv.Itoa(port))
	h.Set(corev1.PortForwardRequestIDHeader, "0")
	errStream, err := sc.CreateStream(h)
	if err != nil {
		return fmt.Errorf("pod %s port %d: %w", pod.Name, port, err)
	}
	errStream.Close() // nothing to send on it
	remoteErr := make(chan error, 1)
	go func() {
		msg, err := io.ReadAll(errStream)
		switch {
		case err != nil:
			remoteErr <- err
		case len(msg) > 0:
			remoteErr <- fmt.Errorf("pod %s port %d: %s", pod.Name, port, msg)
		default:
			remoteErr <- nil
		}
	}()
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	data, err := sc.CreateStream(h)
	if err != nil {
		return fmt.Errorf("pod %s port %d: %w", pod.Name, port, err)
	}
	copied := make(chan struct{}, 2)
	go func() {
		io.Copy(conn, data)
		copied <- struct{}{}
	}()
	go func() {
		io.Copy(data, conn)
		data.Close() // half-close: the pod sees EOF
		copied <- struct{}{}
	}()
	select {
	case <-copied:
	case <-ctx.Done():
	}
	// The pod side reports a failure (nothing listening, …) on the error stream.
	select {
	case err := <-remoteErr:
		if err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
			return err
		}
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
	return nil
}
