module github.com/ucw-asio/ucw-asio/bench/profile/crossing

go 1.26.0
