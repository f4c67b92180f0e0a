"""The web interface's shared foundation: the app shell's navigation, icons, htmx helpers, and the check
that the front end (``npm run build``) has been built."""
