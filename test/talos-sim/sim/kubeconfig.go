package sim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"time"
)

// adminKubeconfig renders an admin kubeconfig for the cluster: the cluster CA and endpoint from
// the config, and a fresh client certificate (CN/O from cluster.adminKubeconfig) signed by the
// Kubernetes CA.
func adminKubeconfig(f ConfigFacts) ([]byte, error) {
	if len(f.K8sCACert) == 0 || len(f.K8sCAKey) == 0 {
		return nil, fmt.Errorf("kubernetes CA key is not available")
	}

	if f.Endpoint == nil {
		return nil, fmt.Errorf("cluster endpoint is not configured")
	}

	ca, err := newCertAuthority(f.K8sCACert, f.K8sCAKey)
	if err != nil {
		return nil, err
	}

	crt, key, err := ca.clientCertificatePEM(f.AdminCN, []string{f.AdminOrg}, f.AdminTTL)
	if err != nil {
		return nil, err
	}

	b64 := base64.StdEncoding.EncodeToString
	user := "admin@" + f.ClusterName

	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
    - name: %[1]s
      cluster:
        server: %[2]s
        certificate-authority-data: %[3]s
users:
    - name: %[4]s
      user:
        client-certificate-data: %[5]s
        client-key-data: %[6]s
contexts:
    - context:
        cluster: %[1]s
        namespace: default
        user: %[4]s
      name: %[4]s
current-context: %[4]s
`, f.ClusterName, f.Endpoint.String(), b64(f.K8sCACert), user, b64(crt), b64(key)), nil
}

// tarGzipSingleFile wraps one file the way the Kubeconfig RPC does (the Copy protocol's .tar.gz).
func tarGzipSingleFile(name string, content []byte, mode int64) ([]byte, error) {
	var buf bytes.Buffer

	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)

	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(content)), Mode: mode, ModTime: time.Now()}); err != nil {
		return nil, err
	}

	if _, err := tw.Write(content); err != nil {
		return nil, err
	}

	if err := tw.Close(); err != nil {
		return nil, err
	}

	if err := zw.Close(); err != nil {
		return nil, err
	}

	return buf.Bytes(), nil
}
