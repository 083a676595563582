module example.com/hkcgo

go 1.19
