// Command kube-controller-manager is the stock Kubernetes controller manager,
// built from the k8s.io/kubernetes module so the simulated workload clusters
// can run its node lifecycle controller without downloaded binaries.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
