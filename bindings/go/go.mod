module idaas.example/idaas-go

go 1.24
