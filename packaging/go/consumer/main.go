// The consumer of the Go module test (packaging/go/test.sh): a program outside the repository
// that gets the module from the proxy directory and a token from the configuration the default
// lookup finds (CLOUD_IDAAS_CONFIG_PATH). It prints the token redacted (its first 12 characters,
// a JWT's header, and its length).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	idaas "github.com/idaas-sdk/idaas/bindings/go"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := idaas.Init("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	defer client.Close()
	token, err := client.Token(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	fmt.Printf("idaas %s: token for the default scope: %.12s... (%d bytes)\n", idaas.Version(), token, len(token))
}
