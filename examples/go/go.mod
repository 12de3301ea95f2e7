module idaas.example/idaas-go-examples

go 1.24

require idaas.example/idaas-go v0.0.0

replace idaas.example/idaas-go => ../../bindings/go
