module example.com/hkstatic

go 1.19
