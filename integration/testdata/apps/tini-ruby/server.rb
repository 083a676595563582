require 'webrick'

server = WEBrick::HTTPServer.new(BindAddress: '127.0.0.1', Port: Integer(ENV.fetch('PORT')),
                                 AccessLog: [], Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN))
server.mount_proc '/' do |_req, res|
  res['Content-Type'] = 'text/plain'
  res.body = "hello from ruby #{RUBY_VERSION.split('.')[0, 2].join('.')} behind #{Process.ppid == 1 ? 'an init' : 'nothing'}\n"
end
trap('TERM') { server.shutdown }
server.start
