// kstatus prints what sigs.k8s.io/cli-utils/pkg/kstatus — the status library Flux and Argo CD
// health checks build on — computes for live objects, read with a dynamic client. Each argument
// is group/version/resource/namespace[/name] (group empty for the core group); without a name,
// every object of the namespace. Output: one JSON array of {kind,namespace,name,status,message}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}

// objects reads what one argument names; a named object that does not exist is nil.
func objects(client *dynamic.DynamicClient, ref string) ([]unstructured.Unstructured, error) {
	parts := strings.Split(ref, "/")
	if len(parts) != 4 && len(parts) != 5 {
		return nil, fmt.Errorf("%q: want group/version/resource/namespace[/name]", ref)
	}
	resource := client.Resource(schema.GroupVersionResource{Group: parts[0], Version: parts[1], Resource: parts[2]}).Namespace(parts[3])
	if len(parts) == 4 {
		list, err := resource.List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return list.Items, nil
	}
	object, err := resource.Get(context.Background(), parts[4], metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return []unstructured.Unstructured{{Object: map[string]interface{}{"metadata": map[string]interface{}{"namespace": parts[3], "name": parts[4]}}}}, nil
	}
	if err != nil {
		return nil, err
	}
	return []unstructured.Unstructured{*object}, nil
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig")
	flag.Parse()
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		fail(err)
	}
	results := []result{}
	for _, ref := range flag.Args() {
		found, err := objects(client, ref)
		if err != nil {
			fail(err)
		}
		for _, object := range found {
			entry := result{Kind: object.GetKind(), Namespace: object.GetNamespace(), Name: object.GetName(), Status: string(status.NotFoundStatus)}
			if object.GetKind() != "" {
				computed, err := status.Compute(&object)
				if err != nil {
					fail(err)
				}
				entry.Status, entry.Message = string(computed.Status), computed.Message
			}
			results = append(results, entry)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fail(err)
	}
}
