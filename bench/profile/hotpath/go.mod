module github.com/ucw-asio/ucw-asio/bench/profile/hotpath

go 1.26.0

require (
	github.com/mattn/go-pointer v0.0.1
	github.com/ucw-asio/ucw-asio v0.0.0
	golang.org/x/sys v0.50.0
)

replace github.com/ucw-asio/ucw-asio => ../../..
