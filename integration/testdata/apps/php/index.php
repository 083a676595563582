<?php
header('Content-Type: text/plain');
printf("hello from php %d, %s\n", PHP_MAJOR_VERSION, json_encode(['ok' => true]));
