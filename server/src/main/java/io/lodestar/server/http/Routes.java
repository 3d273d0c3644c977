package io.lodestar.server.http;

import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.util.SafeCloseable;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.ExceptionHandlerFunction;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The HTTP routes of the REST API, the console and the Consul API, bound as plain functions.
 *
 * <p>Why not Armeria's annotated services: they reflect over every method, parameter and
 * annotation at each start, about a quarter of a second of CPU for this server's ~110 routes, a
 * sixth of a start to ready (docs/benchmarks.md, "Performance levers"). A table of functions costs
 * nothing to build. A route reads its parameters as the annotated services did, which the API's
 * contract was written against: path variables decoded; other parameters from the query string
 * and, for a form post, its fields, the first value when one is given twice; a parameter given
 * empty ({@code ?x=}) is the empty string, not absent.
 *
 * <p>Every route's metrics carry the owner's class as their {@code service} label and the route's
 * name as its {@code method}, as the annotated services' did.
 */
public final class Routes {
  /** A route's handler: returns an {@link HttpResponse} or a {@link CompletionStage} of one. */
  @FunctionalInterface
  public interface Handler {
    Object handle(Call call) throws Exception;
  }

  /** A class that serves routes: it binds its handlers, once, when the server is built. */
  public interface Owner {
    void bind(Routes routes);
  }

  private final ServerBuilder sb;
  private final Owner owner;
  private final String serviceName;
  private long maxRequestLength = -1;
  private DecoratingHttpServiceFunction decorator;
  private ExceptionHandlerFunction exceptionHandler;

  private Routes(ServerBuilder sb, Owner owner) {
    this.sb = Objects.requireNonNull(sb, "sb");
    this.owner = owner;
    this.serviceName = owner.getClass().getName();
  }

  /** Binds {@code owner}'s routes on {@code sb}. */
  public static void install(ServerBuilder sb, Owner owner) {
    on(sb, owner).install();
  }

  /** {@code owner}'s routes, to be given options and then {@link #install() installed}. */
  public static Routes on(ServerBuilder sb, Owner owner) {
    return new Routes(sb, owner);
  }

  /** Binds the owner's routes with these options. */
  public void install() {
    owner.bind(this);
  }

  /** The largest request body these routes take (the server's default otherwise). */
  public Routes maxRequestLength(long bytes) {
    this.maxRequestLength = bytes;
    return this;
  }

  /** A decorator every one of these routes goes through. */
  public Routes decorator(DecoratingHttpServiceFunction decorator) {
    this.decorator = decorator;
    return this;
  }

  /** Answers these routes' failures (before the server's error handler would). */
  public Routes exceptionHandler(ExceptionHandlerFunction handler) {
    this.exceptionHandler = handler;
    return this;
  }

  public Routes get(String path, String name, Handler handler) {
    return add(HttpMethod.GET, path, name, handler, false);
  }

  public Routes post(String path, String name, Handler handler) {
    return add(HttpMethod.POST, path, name, handler, false);
  }

  public Routes put(String path, String name, Handler handler) {
    return add(HttpMethod.PUT, path, name, handler, false);
  }

  public Routes delete(String path, String name, Handler handler) {
    return add(HttpMethod.DELETE, path, name, handler, false);
  }

  public Routes patch(String path, String name, Handler handler) {
    return add(HttpMethod.PATCH, path, name, handler, false);
  }

  /** A route whose handler may block (disk, a cluster change): run on the blocking executor. */
  public Routes blocking(HttpMethod method, String path, String name, Handler handler) {
    return add(method, path, name, handler, true);
  }

  private Routes add(HttpMethod method, String path, String name, Handler handler, boolean blocking) {
    HttpService service = new Route(handler, blocking, exceptionHandler);
    if (decorator != null) {
      service = service.decorate(decorator);
    }
    var binding = sb.route().path(path).methods(method).defaultServiceName(serviceName).defaultLogName(name);
    if (maxRequestLength >= 0) {
      binding.maxRequestLength(maxRequestLength);
    }
    binding.build(service);
    return this;
  }

  private record Route(Handler handler, boolean blocking, ExceptionHandlerFunction exceptionHandler)
      implements HttpService {
    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
      CompletableFuture<HttpResponse> answer = req.aggregate().thenCompose(aggregated -> blocking
          ? CompletableFuture.supplyAsync(() -> call(ctx, aggregated), ctx.blockingTaskExecutor())
              .thenCompose(f -> f)
          : call(ctx, aggregated));
      HttpResponse response = HttpResponse.of(answer);
      return exceptionHandler == null ? response
          : response.recover(cause -> exceptionHandler.handleException(ctx, req, cause));
    }

    private CompletableFuture<HttpResponse> call(ServiceRequestContext ctx, AggregatedHttpRequest req) {
      // the aggregation may complete off the request's context; what a handler calls (the audit
      // stamp in AttributedLog, the authorizer) reads it as the current one, so make it current
      try (SafeCloseable ignored = ctx.push()) {
        Object result = handler.handle(new Call(ctx, req));
        if (result instanceof HttpResponse r) {
          return CompletableFuture.completedFuture(r);
        }
        @SuppressWarnings("unchecked")
        CompletionStage<HttpResponse> stage = (CompletionStage<HttpResponse>) result;
        return stage.toCompletableFuture();
      } catch (Throwable t) {
        return CompletableFuture.failedFuture(t);
      }
    }
  }

  /** One request to a route: its context, its aggregated request and its parameters. */
  public static final class Call {
    private final ServiceRequestContext ctx;
    private final AggregatedHttpRequest request;
    private QueryParams params;

    Call(ServiceRequestContext ctx, AggregatedHttpRequest request) {
      this.ctx = ctx;
      this.request = request;
    }

    public ServiceRequestContext ctx() {
      return ctx;
    }

    public AggregatedHttpRequest request() {
      return request;
    }

    /** A path variable of the route, decoded. */
    public String path(String name) {
      String v = ctx.pathParam(name);
      if (v == null) {
        throw new IllegalStateException("no path variable " + name + " in " + ctx.config().route());
      }
      return v;
    }

    /** A parameter (query string, or a posted form's field) or empty when not given. */
    public Optional<String> optional(String name) {
      return Optional.ofNullable(single(name));
    }

    /** A parameter, or {@code dflt} when not given. */
    public String param(String name, String dflt) {
      String v = single(name);
      return v != null ? v : dflt;
    }

    /** A parameter the route needs: a 400 naming it when not given. */
    public String required(String name) {
      String v = single(name);
      if (v == null) {
        throw io.lodestar.core.LodestarException.invalid(name, "the parameter " + name + " is missing");
      }
      return v;
    }

    /** A non-negative integer the route needs: a 400 naming it when not given or not one. */
    public long requiredNumber(String name) {
      return io.lodestar.server.http.QueryParams.number(name, required(name));
    }

    /** A request header, or empty when not sent. */
    public Optional<String> header(String name) {
      return Optional.ofNullable(request.headers().get(name));
    }

    /**
     * A one-valued parameter. Given twice with different values ({@code ?wait=5&wait=50}) it is a
     * 400 naming it, not whichever comes first: the caller meant one of them and would not know
     * which was used. The same value twice is harmless. Only the query string is checked: a
     * console form may repeat a field the page's URL carries.
     */
    private String single(String name) {
      String first = params().get(name);
      if (first != null) {
        for (String v : ctx.queryParams().getAll(name)) {
          if (!v.equals(first)) {
            throw io.lodestar.core.LodestarException.invalid(name,
                "the parameter " + name + " is given more than once, with different values");
          }
        }
      }
      return first;
    }

    private QueryParams params() {
      if (params == null) {
        QueryParams query = ctx.queryParams();
        MediaType type = request.contentType();
        if (type != null && type.is(MediaType.FORM_DATA) && !request.content().isEmpty()) {
          // a form post's fields after the query string's (the query string's first value wins)
          params = query.toBuilder().add(QueryParams.fromQueryString(request.contentUtf8())).build();
        } else {
          params = query;
        }
      }
      return params;
    }
  }
}
