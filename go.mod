module thunderline

go 1.26

require (
	github.com/NimbleMarkets/dbn-go v0.6.0 // indirect
	github.com/klauspost/compress v1.18.0 // indirect
	github.com/valyala/fastjson v1.6.4 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
