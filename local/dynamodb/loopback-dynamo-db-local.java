import java.io.File;
import java.lang.reflect.Field;
import java.util.Set;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.monitoring.Telemetry;
import software.amazon.dynamodb.services.local.monitoring.TelemetryUtil;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local (ServerRunner's own set-up, from the jar's classes) with its Jetty connector
 * bound to 127.0.0.1 instead of every interface, and a guard in front of its handler that refuses any
 * request carrying an Origin header (browsers send one; SDK clients never do) or a Host other than
 * 127.0.0.1:port / localhost:port (DNS rebinding). Usage: the jar's own arguments; the port is -port.
 */
final class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    CommandLineInput input = new CommandLineInput(args);
    if (!input.init()) System.exit(2);
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Telemetry.configureTelemetry(TelemetryUtil.getSetupType(new File("/.dockerenv"), new File("pom.xml")), ServerRunner.getSetupMode(input), TelemetryUtil.isTelemetryEnabled(input.isDisableTelemetry()));
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) ((ServerConnector) connector).setHost("127.0.0.1");
    int port = input.getPort();
    Set<String> hosts = Set.of("127.0.0.1:" + port, "localhost:" + port);
    Handler inner = server.getHandler();
    server.setHandler(new Handler.Wrapper(inner) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String host = request.getHeaders().get("Host");
        if (request.getHeaders().get("Origin") != null || host == null || !hosts.contains(host.toLowerCase())) {
          Response.writeError(request, response, callback, HttpStatus.FORBIDDEN_403, "refused: DynamoDB Local answers loopback SDK clients only");
          return true;
        }
        return super.handle(request, response, callback);
      }
    });
    proxy.start();
    proxy.join();
  }
}
