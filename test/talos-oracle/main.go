// Command talos-oracle answers questions about Talos machine configuration with
// Talos's own Go library (pkg/machinery), so our TypeScript engine can be
// compared against it. It is a test tool, not part of the product.
//
// Usage:
//
//	talos-oracle serve        newline-delimited JSON: {"id":1,"op":"gen-config","params":{...}} per line,
//	                          one {"id":1,"ok":true,"result":{...}} / {"id":1,"ok":false,"error":"..."} per line back
//	talos-oracle <op>         one JSON params object on stdin, one JSON response on stdout
//
// Ops: see the handlers table in ops.go.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

func main() {
	if len(os.Args) != 2 {
		usage()
		os.Exit(2)
	}

	switch arg := os.Args[1]; arg {
	case "serve":
		if err := serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "talos-oracle:", err)
			os.Exit(1)
		}
	case "-h", "--help", "help":
		usage()
	default:
		params, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "talos-oracle: reading stdin:", err)
			os.Exit(1)
		}

		resp := dispatch(request{Op: arg, Params: params})

		if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
			os.Exit(1)
		}

		if !resp.OK {
			os.Exit(1)
		}
	}
}

func usage() {
	ops := make([]string, 0, len(handlers))
	for name := range handlers {
		ops = append(ops, name)
	}

	sort.Strings(ops)
	fmt.Fprintf(os.Stderr, "usage: talos-oracle serve | talos-oracle <op> < params.json\nops: %v\n", ops)
}

// serve answers one request per input line until EOF. Requests are handled in
// order; a bad line gets an error response rather than ending the process.
func serve(in io.Reader, out io.Writer) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 0, 1<<20), 64<<20)

	writer := bufio.NewWriter(out)
	encoder := json.NewEncoder(writer)

	for scanner.Scan() {
		line := scanner.Bytes()
		if len(line) == 0 {
			continue
		}

		var req request

		var resp response

		if err := json.Unmarshal(line, &req); err != nil {
			resp = response{OK: false, Error: "bad request line: " + err.Error()}
		} else {
			resp = dispatch(req)
		}

		if err := encoder.Encode(resp); err != nil {
			return err
		}

		if err := writer.Flush(); err != nil {
			return err
		}
	}

	return scanner.Err()
}
