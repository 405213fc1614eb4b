package graphiql

import "html/template"

// page is gqlgen v0.17.98's GraphiQL page (playground.Handler) cut to what
// Gatehouse uses, with one change: headers — where credentials go — are
// kept in the browser's storage only when the user opts in, with the
// "Persist headers" switch of GraphiQL's settings, and never in the URL.
//
// gqlgen's page sets shouldPersistHeaders: true, which writes every
// Authorization header typed into GraphiQL to localStorage, where it
// outlives the session and any script of the origin can read it. Turning
// the prop off is not enough: GraphiQL 4 also saves each query it runs to
// its history (graphiql:queries) with the headers it ran with. So GraphiQL
// gets a storage that removes headers from whatever it writes — the header
// editor's text, tabs, history, favorites — unless the user switched
// persisting on (GraphiQL stores the switch as graphiql:shouldPersistHeaders;
// on loading it obeys the prop, which is read from there). Headers a former
// page stored are scrubbed when the page loads.
//
// The page keeps its query, variables and operation name in its URL (as
// gqlgen's WithGraphiqlPersistStateInURL does), so a link opens an example
// operation; unlike gqlgen's, it leaves headers out, since a URL lands in
// browser history, proxy logs and the Referer of whatever it links to, and
// drops a headers parameter an older link carries.
var page = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{{.Title}}</title>
    <style>
      body { margin: 0; }
      #graphiql { height: 100vh; }
      .loading { height: 100%; display: flex; align-items: center; justify-content: center; font-size: 4rem; }
    </style>
    <script src="{{.ReactURL}}" integrity="{{.ReactSRI}}" crossorigin="anonymous"></script>
    <script src="{{.ReactDOMURL}}" integrity="{{.ReactDOMSRI}}" crossorigin="anonymous"></script>
    <link rel="stylesheet" href="{{.CSSURL}}" integrity="{{.CSSSRI}}" crossorigin="anonymous" />
    <link rel="stylesheet" href="{{.ExplorerCSSURL}}" integrity="{{.ExplorerCSSSRI}}" crossorigin="anonymous" />
  </head>
  <body>
    <div id="graphiql"><div class="loading">Loading…</div></div>
    <script src="{{.JSURL}}" integrity="{{.JSSRI}}" crossorigin="anonymous"></script>
    <script src="{{.ExplorerJSURL}}" integrity="{{.ExplorerJSSRI}}" crossorigin="anonymous"></script>
    <script>
      const url = location.protocol + '//' + location.host + {{.Endpoint}};
      const wsProto = location.protocol == 'https:' ? 'wss:' : 'ws:';
      const subscriptionUrl = wsProto + '//' + location.host + {{.Endpoint}};

      let plugins = [];
      plugins.push(GraphiQLPluginExplorer.explorerPlugin());

      // The query, variables and operation name live in the URL; headers
      // never do.
      const parameters = Object.fromEntries(new URLSearchParams(window.location.search));
      function updateURL() {
        const searchParams = new URLSearchParams();
        for (const key of ['query', 'variables', 'operationName']) {
          if (parameters[key]) searchParams.set(key, parameters[key]);
        }
        const search = searchParams.toString();
        history.replaceState(null, '', search ? '?' + search : location.pathname);
      }
      if ('headers' in parameters) updateURL();
      function onEditQuery(query) { parameters.query = query; updateURL(); }
      function onEditVariables(variables) { parameters.variables = variables; updateURL(); }
      function onEditOperationName(operationName) { parameters.operationName = operationName; updateURL(); }

      // Credentials stay out of the browser's storage unless the user
      // switched "Persist headers" on in GraphiQL's settings.
      const persistKey = 'graphiql:shouldPersistHeaders';
      function persistHeaders() {
        try { return localStorage.getItem(persistKey) === 'true'; } catch (e) { return false; }
      }
      // withoutHeaders is what GraphiQL wrote under key, less any headers.
      function withoutHeaders(key, value) {
        if (key === persistKey || typeof value !== 'string') return value;
        if (key.endsWith(':headers')) return '';
        let parsed;
        try { parsed = JSON.parse(value); } catch (e) { return value; }
        if (parsed === null || typeof parsed !== 'object') return value;
        return JSON.stringify(parsed, (k, v) => (k === 'headers' ? undefined : v));
      }
      let storage;
      try {
        storage = {
          getItem: (k) => localStorage.getItem(k),
          setItem: (k, v) => localStorage.setItem(k, persistHeaders() ? v : withoutHeaders(k, v)),
          removeItem: (k) => localStorage.removeItem(k),
          clear: () => Object.keys(localStorage).filter((k) => k.startsWith('graphiql:')).forEach((k) => localStorage.removeItem(k)),
          get length() { return localStorage.length; },
          key: (i) => localStorage.key(i),
        };
        if (!persistHeaders()) {
          Object.keys(localStorage).filter((k) => k.startsWith('graphiql:')).forEach((k) => storage.setItem(k, localStorage.getItem(k)));
        }
      } catch (e) {
        storage = undefined; // no localStorage: GraphiQL keeps nothing
      }

      const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl });
      ReactDOM.render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          plugins: plugins,
          query: parameters.query,
          variables: parameters.variables,
          operationName: parameters.operationName,
          onEditQuery: onEditQuery,
          onEditVariables: onEditVariables,
          onEditOperationName: onEditOperationName,
          storage: storage,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: persistHeaders(),
          showPersistHeadersSettings: true,
          inputValueDeprecation: true
        }),
        document.getElementById('graphiql'),
      );
    </script>
  </body>
</html>
`))

// pageData fills page.
type pageData struct {
	Title, Endpoint         string
	JSURL, CSSURL, ReactURL template.URL
	ReactDOMURL             template.URL
	JSSRI, CSSSRI, ReactSRI string
	ReactDOMSRI             string
	ExplorerJSURL           template.URL
	ExplorerCSSURL          template.URL
	ExplorerJSSRI           string
	ExplorerCSSSRI          string
}
