# Adds the cargo build of the module to objs/Makefile (sourced by nginx's auto/make; see config).

ngx_fg_src=`pwd`
case "$NGX_OBJS" in
    /*) ngx_fg_objs=$NGX_OBJS ;;
    *)  ngx_fg_objs=$ngx_fg_src/$NGX_OBJS ;;
esac
ngx_fg_dir=`cd "$ngx_addon_dir" && pwd`
ngx_fg_profile=${NGX_CARGO_PROFILE:-release}
case "$ngx_fg_profile" in
    release) ngx_fg_cargo_opt=--release ;;
    *)       ngx_fg_cargo_opt="--profile $ngx_fg_profile" ;;
esac
ngx_fg_outdir=$ngx_fg_profile
[ "$ngx_fg_profile" = dev ] && ngx_fg_outdir=debug

cat << END                                                    >> $NGX_MAKEFILE

modules:	$ngx_fg_objs/ngx_http_frontend_gray_module.so

# cargo decides itself what is out of date
$ngx_fg_objs/ngx_http_frontend_gray_module.so:	ngx_http_frontend_gray_module_cargo

ngx_http_frontend_gray_module_cargo:
	cd "$ngx_fg_dir" && \\
	NGINX_SOURCE_DIR="$ngx_fg_src" NGINX_BUILD_DIR="$ngx_fg_objs" \\
	$NGX_CARGO build $ngx_fg_cargo_opt --locked \\
		--target-dir "$ngx_fg_objs/ngx_http_frontend_gray_module" \\
		-p ngx_http_frontend_gray_module
	cp "$ngx_fg_objs/ngx_http_frontend_gray_module/$ngx_fg_outdir/libngx_http_frontend_gray_module.so" \\
		"$ngx_fg_objs/ngx_http_frontend_gray_module.so"

.PHONY:	ngx_http_frontend_gray_module_cargo

END
