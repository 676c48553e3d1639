//go:build tools

// Package tools records the tool's main package so `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/inngest/inngest/cmd"
