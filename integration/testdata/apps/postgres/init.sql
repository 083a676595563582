CREATE TABLE greeting (id serial PRIMARY KEY, text text NOT NULL);
INSERT INTO greeting (text) VALUES ('hello from postgres');
