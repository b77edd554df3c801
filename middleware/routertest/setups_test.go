package routertest

import (
	"io"
	"log"
	"net/http"

	"github.com/gin-contrib/requestid"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// The setups of the README's "Using Gatehouse with your router". Each
// block between a "readme:NAME" and a "readme:end" line is one of its Go
// blocks, one tab deeper (TestReadmeRouterSection); the rest adds the
// routes and returns the handler to serve.

// netHTTP is the plain net/http setup.
func netHTTP(routes func(*http.ServeMux)) http.Handler {
	mux := http.NewServeMux()
	routes(mux)
	// readme:net/http
	handler := middleware.Handler(middleware.Options{})(mux)
	// readme:end
	return handler
}

// chiRouter is the chi setup: Handler inside chi's Recoverer, its pages
// quoting the ID chi's RequestID keeps in the request's context.
func chiRouter(routes func(chi.Router)) http.Handler {
	// readme:chi
	pages, err := errorpage.New(errorpage.Config{
		RequestID: func(r *http.Request) string { return chimw.GetReqID(r.Context()) },
	})
	if err != nil {
		log.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(chimw.RequestID, chimw.Recoverer)
	r.Use(middleware.Handler(middleware.Options{Pages: pages}))
	// readme:end
	routes(r)
	return r
}

// echoWrapMiddleware is the echo setup with echo.WrapMiddleware, inside
// echo's Recover.
func echoWrapMiddleware(routes func(*echo.Echo)) http.Handler {
	// readme:echo
	e := echo.New()
	e.Use(echomw.RequestID(), echomw.Recover())
	e.Use(echo.WrapMiddleware(middleware.Handler(middleware.Options{})))
	// readme:end
	quiet(e)
	routes(e)
	return e
}

// echoWrapped is the echo setup with Handler around the *echo.Echo,
// replacing echo's own JSON errors too.
func echoWrapped(routes func(*echo.Echo)) http.Handler {
	// readme:echo-wrapped
	e := echo.New()
	e.Use(echomw.RequestID(), echomw.Recover())
	handler := middleware.Handler(middleware.Options{
		Intercept: []int{404, 500, 502, 503, 504},
		Replace:   middleware.ReplaceUnlessHTML, // echo's errors are JSON
	})(e)
	// readme:end
	quiet(e)
	routes(e)
	return handler
}

// ginEngine is the gin setup: Handler around the engine, 500 intercepted
// for the empty one gin.Recovery answers a panic with.
func ginEngine(routes func(*gin.Engine)) http.Handler {
	// readme:gin
	engine := gin.New()
	engine.Use(requestid.New(), gin.Recovery())
	handler := middleware.Handler(middleware.Options{
		Intercept: []int{500, 502, 503, 504}, // gin.Recovery answers a panic with an empty 500
	})(engine)
	// readme:end
	routes(engine)
	return handler
}

// quiet silences echo's banner and logger, which Recover writes to.
func quiet(e *echo.Echo) {
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
}
