// A launcher for FerretDB v1.24.2 (a MongoDB-wire-protocol server over PostgreSQL) built from its embeddable
// package: the `ferretdb` command of that release panics on start when built with `go install` (it expects
// build/version/version.txt from its own build system), the embeddable package does not. Telemetry is off in
// the embeddable package (it never reports). Used by scripts/services/ferretdb.sh; tests only.
//
//	ferretdb-launcher -listen 127.0.0.1:27018 -postgresql-url postgres://user:pass@127.0.0.1:5432/db
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP address to listen on")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL connection string of the backend")
	flag.Parse()
	if *postgresURL == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-launcher: -postgresql-url is required")
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-launcher:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(os.Stderr, "ferretdb-launcher: listening on", *listen)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-launcher:", err)
		os.Exit(1)
	}
}
