-- The achievement catalogue students earn XP from. Re-runnable: existing codes are kept as is.
insert into public.achievements (code, name, description, icon, xp_reward) values
  ('first_video', 'First Steps', 'Watch your first lesson to the end.', 'play', 10),
  ('first_question', 'Curious Mind', 'Ask the AI tutor your first question.', 'message', 10),
  ('quiz_passed', 'Quiz Whiz', 'Pass your first quiz.', 'check', 25),
  ('perfect_quiz', 'Perfectionist', 'Score 100% on a quiz.', 'star', 50),
  ('project_submitted', 'Builder', 'Submit your first project.', 'hammer', 40),
  ('streak_7', 'On a Roll', 'Learn seven days in a row.', 'flame', 70),
  ('streak_30', 'Unstoppable', 'Learn thirty days in a row.', 'rocket', 300),
  ('course_complete', 'Graduate', 'Complete every lesson of a course.', 'graduation', 150),
  ('study_group_joined', 'Team Player', 'Join a study group.', 'users', 15),
  ('night_owl', 'Night Owl', 'Finish a lesson after midnight.', 'moon', 5)
on conflict (code) do nothing;
