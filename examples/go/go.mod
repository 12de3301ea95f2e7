module github.com/idaas-sdk/idaas/examples/go

go 1.24

require github.com/idaas-sdk/idaas/bindings/go v0.1.0

replace github.com/idaas-sdk/idaas/bindings/go => ../../bindings/go
