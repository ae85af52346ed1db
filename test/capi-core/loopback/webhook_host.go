//go:build capiworld

// This file is added to the Cluster API manager's main package at build time
// (go build -overlay, see test/world/capi-core.ts); it is not part of this module's
// build. The manager has no flag for its webhook server's listen host, and
// controller-runtime's default (empty) listens on every interface: the test world
// keeps every server it starts on loopback.
package main

import (
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

func init() {
	newManager := ctrl.NewManager
	ctrl.NewManager = func(config *rest.Config, options manager.Options) (manager.Manager, error) {
		if server, ok := options.WebhookServer.(*webhook.DefaultServer); ok && server.Options.Host == "" {
			server.Options.Host = "127.0.0.1"
		}
		return newManager(config, options)
	}
}
