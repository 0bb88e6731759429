module thunderline

go 1.26
