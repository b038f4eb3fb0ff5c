# Install layout (`cmake --install`) and the Debian package (`cpack -G DEB`), see README "Install".
# Paths follow GNUInstallDirs, relative to the prefix: CMAKE_INSTALL_PREFIX (/usr/local by default) for
# `cmake --install`, always /usr for the package (CPACK_PACKAGING_INSTALL_PREFIX below).
include(GNUInstallDirs)

set(PIPELINE_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd service and timer go, relative to the install prefix")

install(TARGETS pipeline RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# When the install strips (cpack, through CPACK_STRIP_FILES below, or `cmake --install --strip`), also drop
# the compiler's .comment section, as Debian's dh_strip does (lintian: binary-has-unneeded-section).
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment
      \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/pipeline\" COMMAND_ERROR_IS_FATAL ANY)
  endif()")

# Debian ships man pages gzipped (-n: no name or time stamp, so the package is reproducible).
set(PIPELINE_MAN_GZ ${CMAKE_BINARY_DIR}/pipeline.1.gz)
add_custom_command(OUTPUT ${PIPELINE_MAN_GZ}
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/docs/pipeline.1 > ${PIPELINE_MAN_GZ}
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/pipeline.1 VERBATIM)
add_custom_target(pipeline_man ALL DEPENDS ${PIPELINE_MAN_GZ})
install(FILES ${PIPELINE_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES scripts/completion/pipeline.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME pipeline)
install(FILES pipeline.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME pipeline.yaml.example)
install(FILES README.md docs/scale.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES scripts/examples/crontab scripts/examples/kubernetes-cronjob.yaml scripts/examples/airflow_dag.py
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Debian wants the copyright file as is and the changelog gzipped, both in the doc folder.
install(FILES packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The changelog's newest entry takes its version from project() (PROJECT_VERSION): on a release, add an entry
# on top naming @PROJECT_VERSION@ and write the previous entry's version out.
configure_file(packaging/changelog.in ${CMAKE_BINARY_DIR}/packaging/changelog @ONLY)
set(PIPELINE_CHANGELOG_GZ ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(OUTPUT ${PIPELINE_CHANGELOG_GZ}
  COMMAND gzip -9nc ${CMAKE_BINARY_DIR}/packaging/changelog > ${PIPELINE_CHANGELOG_GZ}
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog VERBATIM)
add_custom_target(pipeline_changelog ALL DEPENDS ${PIPELINE_CHANGELOG_GZ})
install(FILES ${PIPELINE_CHANGELOG_GZ} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The systemd units name the binary and the docs where the install under way puts them, so they are written
# at install time (cmake/install_units.cmake.in): /usr/bin/pipeline in the package, whatever the prefix.
configure_file(cmake/install_units.cmake.in ${CMAKE_BINARY_DIR}/install_units.cmake @ONLY)
install(SCRIPT ${CMAKE_BINARY_DIR}/install_units.cmake)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pipeline)
set(CPACK_PACKAGE_VENDOR "pipeline")
set(CPACK_PACKAGE_CONTACT "pipeline maintainers <pipeline@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "harvests the MapleStory Open API into dated snapshot files")
# cpack turns each line into one line of the control file's Description, indented by one space (an empty
# one into " ."); lintian wants them at most 80 characters wide.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "pipeline fetches rankings, character ids, character basics and item equipment"
  "from the rate-limited MapleStory Open API into dated, atomically published"
  "snapshot files on a local folder or S3. It keeps a run ledger, stops"
  "gracefully and resumes, and verifies and prunes the snapshots."
  ""
  "The package ships a systemd service and timer for a daily harvest, installed"
  "but not enabled.")
# A Debian package never installs into /usr/local: the package is /usr whatever prefix the build folder has.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The binary is built with debug info (RelWithDebInfo, ~65 MB); the package ships it stripped.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime dependencies come from the libraries the binary links (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://openapi.nexon.com/")
include(CPack)
