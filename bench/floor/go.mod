module github.com/ucw-asio/ucw-asio/bench/floor

go 1.26.0
