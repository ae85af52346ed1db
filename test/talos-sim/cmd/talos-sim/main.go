// Command talos-sim plays Talos nodes on loopback for tests. It prints
// "TALOS_SIM_CONTROL=http://host:port" on stdout once its control interface listens; see
// sim.ControlHandler for the API.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/talos-capi/talos-capi/test/talos-sim/sim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "talos-sim:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		controlListen  = flag.String("control-listen", "127.0.0.1:0", "listen address of the HTTP control interface")
		mode           = flag.String("mode", "metal", "runtime mode used to validate configs: metal, container or cloud")
		strict         = flag.Bool("strict", false, "treat config validation warnings as errors")
		checkK8s       = flag.Bool("check-kubernetes-versions", false, "also run Talos's Kubernetes version compatibility check")
		addressing     = flag.String("addressing", "ports", "node addresses: ports (one port per node on -host) or ips (127.0.0.x:-node-port)")
		host           = flag.String("host", "127.0.0.1", "bind address in ports mode")
		firstIP        = flag.String("first-ip", "127.0.0.2", "first loopback address in ips mode")
		nodePort       = flag.Int("node-port", 50000, "API port in ips mode")
		bootDelay      = flag.Duration("boot-delay", 0, "how long a boot sequence stays in progress")
		rebootDowntime = flag.Duration("reboot-downtime", 100*time.Millisecond, "how long a rebooting node is down")
		noALPN         = flag.Bool("no-alpn", false, "negotiate no ALPN protocol, like Talos < 1.9")
		stdinLifeline  = flag.Bool("exit-on-stdin-eof", false, "exit when stdin closes (so a crashed test runner leaves no simulator behind)")
		talosVersion   = flag.String("talos-version", "v1.14.1", "version reported when the installer image has no tag")
	)

	flag.Parse()

	runtimeMode, err := sim.ParseRuntimeMode(*mode)
	if err != nil {
		return err
	}

	if *addressing != string(sim.AddressingPorts) && *addressing != string(sim.AddressingIPs) {
		return fmt.Errorf("unknown addressing %q", *addressing)
	}

	logger := log.New(os.Stderr, "talos-sim: ", log.LstdFlags)

	s := sim.New(sim.Options{
		Validation:          sim.ValidationOptions{Mode: runtimeMode, Strict: *strict, CheckKubernetesVersions: *checkK8s},
		Addressing:          sim.Addressing(*addressing),
		Host:                *host,
		FirstIP:             *firstIP,
		NodePort:            *nodePort,
		BootDelay:           *bootDelay,
		RebootDowntime:      *rebootDowntime,
		NoALPN:              *noALPN,
		DefaultTalosVersion: *talosVersion,
		Logf:                logger.Printf,
	})
	defer s.Close()

	l, err := net.Listen("tcp", *controlListen)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv := &http.Server{Handler: sim.ControlHandler(s, stop), ReadHeaderTimeout: 10 * time.Second}

	go func() { _ = srv.Serve(l) }()

	if *stdinLifeline {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	fmt.Printf("TALOS_SIM_CONTROL=http://%s\n", l.Addr().String())

	<-ctx.Done()
	logger.Print("shutting down")

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	return srv.Shutdown(shutdownCtx)
}
