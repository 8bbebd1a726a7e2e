"""Episode recording and replay: compact episode files, deterministic re-simulation to H.264 MP4, galleries.

Public API:

- ``episode_file``: :class:`Episode` (spec, actions, rewards, poses, metrics, optional frames and attention),
  ``write(ep, path)`` (atomic), ``read(path)`` (verified; :class:`EpisodeFileError` names the file and
  the problem), ``find(paths)`` (folders → their ``*.episode`` files).
- ``recorder.EpisodeRecorder(dir, which="all"|"every:K"|"failures"|"none", frames=False, prefix="",
  max_trials=None, meta=None)``: call ``reset(env, obs)`` after ``env.reset`` and
  ``step(env, action, obs, reward, info, attention=None)`` after every ``env.step``; ``written`` lists
  the files. Used by ``embodied eval`` and meant for the trainer (one recorder per env worker, own prefix).
- ``replayer.replay(episode, out_mp4, size=256, ...) -> ReplayResult``; ``simulate`` / ``StepRenderer``
  for custom rendering; :class:`ReplayDivergence` when the simulator no longer reproduces the recording.
- ``gallery.write_gallery(results, path)``: the HTML page of replayed episodes.
- ``video.VideoWriter`` / ``read_frames`` / ``psnr``: H.264 via PyAV (libx264), OpenCV for colour conversion.
"""
