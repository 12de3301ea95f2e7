module github.com/idaas-sdk/idaas/bindings/go

go 1.24
