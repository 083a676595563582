require("express")().get("/", (q, s) => s.send("ok")).listen(8080);
