module github.com/breakerd/breakerd

go 1.26.8
