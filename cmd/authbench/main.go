package main

import (
	_ "github.com/HdrHistogram/hdrhistogram-go"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/spf13/pflag"
)

func main() {}
