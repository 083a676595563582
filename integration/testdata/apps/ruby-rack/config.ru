require 'json'

class Hello
  def call(env)
    body = JSON.generate(hello: 'from rack', rack: Rack.release, path: env['PATH_INFO'],
                         json_ext: JSON.generator.name)
    [200, { 'content-type' => 'application/json' }, [body + "\n"]]
  end
end

use Rack::ContentLength
run Hello.new
