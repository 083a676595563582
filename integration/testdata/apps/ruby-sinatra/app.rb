require 'sinatra'

set :bind, '127.0.0.1'
set :port, Integer(ENV.fetch('PORT', '4567'))
set :server, 'webrick'
set :environment, :production

get '/' do
  content_type 'text/plain'
  "hello from sinatra #{Sinatra::VERSION.split('.').first} (#{'π'.encoding})\n"
end
