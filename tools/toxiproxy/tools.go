//go:build tools

// Package tools records the tools' main packages so `go mod tidy` keeps their dependencies.
package tools

import (
	_ "github.com/Shopify/toxiproxy/v2/cmd/cli"
	_ "github.com/Shopify/toxiproxy/v2/cmd/server"
)
