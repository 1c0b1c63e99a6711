"""The Lessons page: the six questions a newcomer asks about VAEs, each answered with live pictures on the bundled
model that shows it best."""
