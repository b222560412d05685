module gohttp

go 1.26
