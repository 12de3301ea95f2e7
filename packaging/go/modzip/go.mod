module github.com/idaas-sdk/idaas/packaging/go/modzip

go 1.26.0

require golang.org/x/mod v0.43.0
